//! Leaf parsers shared by the state and rule parsers (addresses, ports,
//! numbers, durations).
