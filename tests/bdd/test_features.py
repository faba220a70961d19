"""Every scenario of every features/*.feature file (new feature files are picked up)."""

from pytest_bdd import scenarios

scenarios(".")
