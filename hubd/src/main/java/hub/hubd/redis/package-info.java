/**
 * The Redis adapter (Redisson): the Redis history store for several hubs. {@code RedissonClient}
 * stays inside this package.
 */
package hub.hubd.redis;
