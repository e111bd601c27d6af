"""Modes: exhibit, classroom and study, on top of the mirror loop through avatar.mode's hooks.

`registry` lists them for the command line; `screens` holds the text drawing they share.
"""
