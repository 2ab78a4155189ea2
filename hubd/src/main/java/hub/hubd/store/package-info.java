/**
 * The relational database: the pool and Flyway migrations ({@link hub.hubd.store.Database}) and
 * the JDBC implementations of the repositories that the features declare. Only this package
 * speaks SQL; everything in it may block and is called only off the gRPC threads.
 */
package hub.hubd.store;
