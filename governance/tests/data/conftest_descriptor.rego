# A conftest policy written against a Data Product Descriptor (conftest test descriptor.yaml): it runs
# unchanged on the rego engine, which queries data.main.deny, data.main.violation and data.main.warn.
package main

import rego.v1

major(version) := split(version, ".")[0]

# A strategic data product says what it is in at least 30 characters.
deny contains msg if {
	input.maturity == "Strategic"
	count(input.description) < 30
	msg := sprintf("%s is strategic: its description needs at least 30 characters", [input.id])
}

# Components share the major version of their data product.
deny contains {"msg": msg, "path": sprintf("components[%d].version", [i])} if {
	some i, component in input.components
	major(component.version) != major(input.version)
	msg := sprintf("%s has version %s, outside major %s", [component.id, component.version, major(input.version)])
}

# An output port should declare the schema of its data contract.
warn contains {"msg": "declares no data contract schema", "path": sprintf("components[%d].dataContract.schema", [i])} if {
	some i, component in input.components
	lower(component.kind) == "outputport"
	count(object.get(component, ["dataContract", "schema"], [])) == 0
}
