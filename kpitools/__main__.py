"""``python -m kpitools`` runs the command-line interface."""

from kpitools.cli import main

if __name__ == "__main__":  # pragma: no cover - exercised through the CLI tests
    main()
