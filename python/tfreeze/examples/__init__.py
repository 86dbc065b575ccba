"""Example models the demo, the benchmarks and the tests share: trained in
seconds on data that ships inside a package, never downloaded."""
