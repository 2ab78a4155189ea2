/**
 * What every feature shares: the domain exception and its kinds, ids and secret hashing, label
 * validation. Depends on nothing else in hubd.
 */
package hub.hubd.core;
