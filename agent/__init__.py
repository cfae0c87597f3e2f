"""campusmon: the campus network and IoT monitoring agent."""


def _version() -> str:
    # A built wheel/sdist (and `pip install -e`) carries agent/_version.py written by
    # setuptools-scm from the git tag; a bare checkout falls back to the installed metadata.
    try:
        from agent._version import version

        return str(version)
    except ImportError:
        pass
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("campusmon")
    except PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
