package reporting_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/reporting"
	"github.com/qualitymon/qualitymon/internal/testenv"
	"github.com/qualitymon/qualitymon/internal/upload"
)

// review.hold_reviewers_own (default true, tokens as config.Load gives
// them): a reviewer's own upload is held, the reviewer may not approve it
// (refused, audited), another reviewer of its regions approves it and it
// is stored. With the setting false it is stored at once.
func TestReviewersOwnUploadsHeld(t *testing.T) {
	for _, setting := range []string{"", "review: {hold_reviewers_own: false}\n"} {
		c, err := config.Load([]byte(setting+`uploads:
  tokens:
    - {bureau: 青岛市统计局, token_sha256: `+upload.HashToken(reviewerToken)+`, regions: ["370200"], role: reviewer}
    - {bureau: 山东省统计局, token_sha256: `+upload.HashToken(jinanToken)+`, regions: ["370000", "370200"], role: reviewer}
`), nil)
		if err != nil {
			t.Fatal(err)
		}
		e := newEnvWith(t, t.TempDir(), c.Uploads.Tokens)
		code, resp := e.post(t, reviewerToken, "own.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2023,98.9\n"))
		if setting != "" {
			if code != 200 || resp["held"] == true || resp["new"] != float64(1) {
				t.Fatalf("hold_reviewers_own false: %d %v, want stored at once", code, resp)
			}
			continue
		}
		if code != 200 || resp["held"] != true {
			t.Fatalf("a reviewer's own upload: %d %v, want held", code, resp)
		}
		id := resp["review_id"].(string)
		own, _ := e.dir.Authenticate(reviewerToken)
		if _, err := e.queue.Approve(context.Background(), id, own, "", ""); !errors.Is(err, reporting.ErrOwnUpload) {
			t.Fatalf("the reviewer approved its own upload: %v", err)
		}
		if n := len(mustCurrent(t, e.st)); n != 0 {
			t.Fatalf("%d figures stored from a held upload", n)
		}
		other, _ := e.dir.Authenticate(jinanToken)
		if u, err := e.queue.Approve(context.Background(), id, other, "", ""); err != nil || u.State != reporting.UploadStored {
			t.Fatalf("another reviewer's approval: %+v %v", u, err)
		}
		if n := len(mustCurrent(t, e.st)); n != 1 {
			t.Fatalf("%d figures stored after the approval, want 1", n)
		}
		if a := auditActions(t, e.reviewDir); a != "hold approve_refused approve store" {
			t.Errorf("audit actions %q", a)
		}
	}
}

// With review_dir's disk full (a real tmpfs) every approval of a held
// upload fails with ErrUnavailable and stores nothing: while the audit
// log's last page has room, its approve line is followed by approve_failed
// (the decision's file needs a page of its own); once it has none, the
// attempt leaves no line at all. A queue opened again finds it held. With
// space again the approval stores it, once.
func TestReviewDirFull(t *testing.T) {
	disk := testenv.Tmpfs(t, 256<<10)
	e2 := newEnvWith(t, filepath.Join(disk, "review"), testTokens(config.ReviewRequired))
	code, resp := e2.post(t, qingdaoToken, "qd.csv", []byte("indicator,region,period,value\nfood_sampling_pass_rate,370200,2023,98.9\nfood_sampling_pass_rate,370200,2022,98.1\n"))
	if code != 200 || resp["held"] != true {
		t.Fatalf("upload: %d %v", code, resp)
	}
	id := resp["review_id"].(string)
	fill := filepath.Join(disk, "filler")
	testenv.FillDisk(t, fill)
	reviewer, _ := e2.dir.Authenticate(reviewerToken)
	ctx := context.Background()
	unaudited := false
	for n := 1; !unaudited; n++ {
		if n > 40 {
			t.Fatal("40 approvals on a full disk were all audited")
		}
		before := auditActions(t, e2.reviewDir)
		u, err := e2.queue.Approve(ctx, id, reviewer, "", "")
		if !errors.Is(err, reporting.ErrUnavailable) || u != nil {
			t.Fatalf("approval %d on a full disk: %+v %v, want ErrUnavailable", n, u, err)
		}
		switch added := strings.TrimSpace(strings.TrimPrefix(auditActions(t, e2.reviewDir), before)); added {
		case "":
			unaudited = true
		case "approve approve_failed":
		default:
			t.Fatalf("approval %d on a full disk added audit actions %q", n, added)
		}
		if got, _ := e2.queue.Get(id); got.State != reporting.UploadHeld {
			t.Fatalf("approval %d on a full disk: the upload is %s", n, got.State)
		}
	}
	if n := len(mustCurrent(t, e2.st)); n != 0 {
		t.Fatalf("%d figures stored by approvals on a full disk", n)
	}
	q, err := reporting.OpenQueue(e2.reviewDir, nil, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := q.Get(id); got.State != reporting.UploadHeld {
		t.Fatalf("reopened: the upload is %s", got.State)
	}
	q.Close()
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if u, err := e2.queue.Approve(ctx, id, reviewer, "", ""); err != nil || u.State != reporting.UploadStored || u.Result.New != 2 {
		t.Fatalf("approval with space again: %+v %v", u, err)
	}
	if n := len(mustCurrent(t, e2.st)); n != 2 {
		t.Fatalf("%d figures stored, want 2", n)
	}
}
