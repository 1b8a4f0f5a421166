"""The team: who may do what, members and their invitations, menus, /help and gatekeeping."""
