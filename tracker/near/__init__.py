"""Works near a place: the public "near me" page, the nearby API and the Atom feed."""
