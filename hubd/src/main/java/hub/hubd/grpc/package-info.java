/**
 * The gRPC adapter for agents: the {@code hub.agent.v1} Connect stream mapped onto the registry.
 * Generated proto types stay in this package.
 */
package hub.hubd.grpc;
