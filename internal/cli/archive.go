package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/qualitymon/qualitymon/internal/upload"
)

type archiveCmd struct {
	Extract archiveExtractCmd `cmd:"" help:"Write the uploaded originals kept in uploads.archive_dir (either layout) to a directory as <date>/<sha256>.<ext>, to read or re-import; damaged records are listed and skipped (exit 1)."`
}

type archiveExtractCmd struct {
	Dir      string `arg:"" type:"path" help:"The upload archive (uploads.archive_dir)."`
	Out      string `arg:"" type:"path" help:"Where to write the originals (created; files already there are left as they are)."`
	SHA256   string `name:"sha256" help:"Only the originals whose SHA-256 (hex, as in the audit log) begins with this."`
	MaxBytes int64  `name:"max-bytes" default:"1073741824" help:"Largest original read (larger records are reported as damaged)."`
}

func (c *archiveExtractCmd) Run(env *Env) error {
	prefix := strings.ToLower(c.SHA256)
	written, existed := 0, 0
	damage, err := upload.ReadArchive(c.Dir, c.MaxBytes, func(a *upload.Archived) error {
		if !strings.HasPrefix(a.SHA256, prefix) {
			return nil
		}
		dir := filepath.Join(c.Out, a.Day)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return err
		}
		f, err := os.OpenFile(filepath.Join(dir, a.SHA256+a.Ext), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
		if errors.Is(err, fs.ErrExist) {
			existed++
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := f.Write(a.Data); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", f.Name(), err)
		}
		written++
		return f.Close()
	})
	for _, d := range damage {
		fmt.Fprintln(env.Stderr, "damaged:", d.Error())
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "%d originals written to %s (%d there already), %d damaged records skipped\n", written, c.Out, existed, len(damage))
	if len(damage) > 0 {
		return exitError{1}
	}
	return nil
}
