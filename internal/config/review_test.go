package config

import "testing"

// review.hold_reviewers_own (default true) holds the uploads of reviewer
// tokens that do not say review:, and leaves reporters and tokens that say
// review: as they are.
func TestHoldReviewersOwn(t *testing.T) {
	const tokens = `uploads:
  tokens:
    - {bureau: 山东省统计局, token_sha256: 5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8, regions: ["370000"], role: reviewer}
    - {bureau: 济南市统计局, token_sha256: 6e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8, regions: ["370100"], role: reviewer, review: none}
    - {bureau: 青岛市统计局, token_sha256: 7e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8, regions: ["370200"]}
`
	for _, tc := range []struct {
		setting string
		want    [3]bool
	}{
		{"", [3]bool{true, false, false}},
		{"review: {hold_reviewers_own: true}\n", [3]bool{true, false, false}},
		{"review: {hold_reviewers_own: false}\n", [3]bool{false, false, false}},
	} {
		c, err := Load([]byte(tc.setting+tokens), nil)
		if err != nil {
			t.Fatalf("%q: %v", tc.setting, err)
		}
		for i, want := range tc.want {
			if got := c.Uploads.Tokens[i].Held(); got != want {
				t.Errorf("%q: token %d (%s) held %v, want %v", tc.setting, i, c.Uploads.Tokens[i].Bureau, got, want)
			}
		}
	}
}
