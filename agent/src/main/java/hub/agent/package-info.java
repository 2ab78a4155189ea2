/**
 * hub-agent: the connection loop to hubd (join, credential, heartbeats, backoff, drain) and the
 * simulator that runs many virtual agents in one JVM.
 */
package hub.agent;
