"""The Data Product Specification (DPS) descriptor (PRODUCT §4.3): :mod:`~dataproducts.descriptor.build` assembles
it, :mod:`~dataproducts.descriptor.validate` reads it leniently, :mod:`~dataproducts.descriptor.adapter` checks it
strictly against what the Witboost tech adapters accept, and :mod:`~dataproducts.descriptor.contract` reads an
output port's data contract for every page that shows one. Import from those modules."""
