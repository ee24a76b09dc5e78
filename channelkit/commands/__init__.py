"""Sub-commands of the `channelkit` CLI, one module each (see ``channelkit.cli``)."""
