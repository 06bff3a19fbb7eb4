"""Identity resolution: from channel contacts to known or pseudonymous persons."""
