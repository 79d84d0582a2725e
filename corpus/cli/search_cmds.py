"""Commands of this area register here: `commands = [...]` is read by corpus.cli."""

commands: list = []
