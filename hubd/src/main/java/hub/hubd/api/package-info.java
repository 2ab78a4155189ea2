/**
 * The HTTP adapter: Javalin routes for health, metrics and {@code /api/v1}, bearer
 * authentication, JSON shapes, and the single mapping of failures to problem+json.
 */
package hub.hubd.api;
