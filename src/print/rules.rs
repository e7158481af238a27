//! Rules as pfctl prints them. SKELETON.
