# validate.py SCHEMA INSTANCES: checks each instance of the JSON object INSTANCES (name to
# instance) against the JSON Schema SCHEMA with Python's jsonschema, an implementation
# independent of the one pigw's tests use, and prints a line per instance: its name, a tab,
# and "valid" or "invalid: why".
import json
import sys

import jsonschema

with open(sys.argv[1]) as f:
    schema = json.load(f)
with open(sys.argv[2]) as f:
    instances = json.load(f)
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema)
for name in sorted(instances):
    err = jsonschema.exceptions.best_match(validator.iter_errors(instances[name]))
    if err is None:
        print(name + "\tvalid")
    else:
        print(name + "\tinvalid: " + err.message.replace("\n", " ")[:200])
