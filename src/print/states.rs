//! States as pfctl prints them. SKELETON.
