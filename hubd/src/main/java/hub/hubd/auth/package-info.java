/**
 * Who may call the hub: users and roles, API tokens (bearer auth, bootstrap admin) and join
 * tokens (how a node first proves it may join). Secrets are stored hashed.
 */
package hub.hubd.auth;
