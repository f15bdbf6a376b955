"""The Builder's scaffolding (PRODUCT §4.1): the one check of a template, the forms generated from its
``spec.parameters``, the check of the values people give them, the pickers' choices, and the safe rendering of
its skeleton with those values."""
