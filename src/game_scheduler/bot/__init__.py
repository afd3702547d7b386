"""The Discord bot: posts games, keeps their messages current, reminds players."""
