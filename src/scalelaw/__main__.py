"""``python -m scalelaw``: the same as the ``scalelaw`` command."""

from scalelaw.cli.main import run

if __name__ == "__main__":
    run()
