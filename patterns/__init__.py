"""L3 constructs: one capability each, secure by default, typed props, resources exposed.

(The design card calls this package `constructs/`; that name would shadow the
`constructs` library that aws-cdk-lib imports, so it lives here.)
"""
