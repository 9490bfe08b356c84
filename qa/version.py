"""The package version, in a module of its own so that inner modules need not import the package face."""
__version__ = "0.1.0"
