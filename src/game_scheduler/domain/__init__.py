"""Pure game rules: no I/O, no imports of the rest of the package, time passed in."""
