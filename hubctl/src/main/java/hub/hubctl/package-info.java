/** hubctl: the admin CLI, one small class per subcommand over {@link hub.hubctl.HubClient}. */
package hub.hubctl;
