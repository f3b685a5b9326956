package config

// Review is the review: section: how the uploads of reviewers are treated.
//
//	review:
//	  hold_reviewers_own: true   # default
//
// HoldReviewersOwn (default true): the uploads of a reviewer's token (role:
// reviewer) are held for review like those of a token with review:
// required, and another reviewer whose regions cover them approves them —
// a reviewer never approves an upload of its own bureau. false: a
// reviewer's uploads are stored at once, unreviewed. A token's own review:
// (required or none) overrides the setting for that token.
type Review struct {
	HoldReviewersOwn *bool `yaml:"hold_reviewers_own"`
}

// HoldsReviewersOwn reports whether reviewers' uploads are held (the
// default).
func (r Review) HoldsReviewersOwn() bool { return r.HoldReviewersOwn == nil || *r.HoldReviewersOwn }

// applyTo gives the reviewer tokens that do not say review: the review
// mode the setting implies (before Uploads.defaults).
func (r Review) applyTo(u *Uploads) {
	for i := range u.Tokens {
		t := &u.Tokens[i]
		if t.Role == RoleReviewer && t.Review == "" && r.HoldsReviewersOwn() {
			t.Review = ReviewRequired
		}
	}
}
