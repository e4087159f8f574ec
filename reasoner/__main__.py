"""`python -m reasoner`: the same as the `reasoner` command."""

from reasoner.cli.main import main

if __name__ == "__main__":
    main()
