"""`python -m corpus`: the command line."""

from .cli import main

if __name__ == "__main__":  # not when imported (a spawned worker re-imports the main module)
    main()
