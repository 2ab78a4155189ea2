/**
 * Commands on nodes: task creation and the bounded per-node command queue, and the ingest of task
 * messages (output into the history store, then acks; starts and results into the task).
 */
package hub.hubd.tasks;
