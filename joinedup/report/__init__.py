"""The service designers' report: channel switching as pictures, from the published analytics file."""
