//! Matinee session server (skeleton; see issue "Session server").
