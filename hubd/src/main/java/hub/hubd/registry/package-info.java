/**
 * Nodes: the in-memory registry of live streams, joins and reconnects, heartbeat liveness, the
 * write-behind path to the database, and node queries for the API. Nothing here blocks a gRPC
 * thread on the database; see docs/CONCURRENCY.md.
 */
package hub.hubd.registry;
