package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/qualitymon/qualitymon/internal/config"
	"github.com/qualitymon/qualitymon/internal/durable"
	"github.com/qualitymon/qualitymon/internal/spool"
	"github.com/qualitymon/qualitymon/internal/store"
)

// A backup directory holds:
//
//	influxdb/               InfluxDB's own backup (influxd backup -portable, or what the command wrote)
//	spool/                  the spool copy: commit, segments, quarantine/, failed/
//	qualitymon-backup.json  written last: the backup is complete
const (
	backupInflux   = "influxdb"
	backupSpool    = "spool"
	backupManifest = "qualitymon-backup.json"
)

// backupRecord is qualitymon-backup.json.
type backupRecord struct {
	Created  time.Time      `json:"created"`
	Bucket   string         `json:"bucket"`
	Command  []string       `json:"influxdb_command"`
	Spool    spool.Manifest `json:"spool"`
	Finished time.Time      `json:"finished"`
}

// influxCmd is what backup and restore share: how InfluxDB's part is done.
type influxCmd struct {
	Influxd     string   `help:"The influxd program (InfluxDB 1.8) run when no command is given." default:"influxd"`
	InfluxdHost string   `help:"InfluxDB 1.8's backup/restore address (bind-address in influxdb.conf; default: the host of influx.url, port 8088)." placeholder:"HOST:PORT"`
	Command     []string `arg:"" optional:"" passthrough:"" help:"After --: the command that backs up (restores) InfluxDB instead of influxd, e.g. influx backup … for InfluxDB 2.x; it finds the backup's InfluxDB directory in $QUALITYMON_BACKUP_INFLUXDB."`
}

// part is InfluxDB's part of verb ("backup" or "restore") for the backup
// directory dir: its command (argv), and what runs it with the backup's
// InfluxDB directory in the environment, its output on stderr.
func (c *influxCmd) part(verb string, cfg *config.Config, env *Env, dir string) ([]string, func() error, error) {
	influxDir := filepath.Join(dir, backupInflux)
	argv, err := c.argv(verb, cfg, influxDir)
	if err != nil {
		return nil, nil, err
	}
	return argv, func() error {
		cmd := exec.CommandContext(env.Ctx, argv[0], argv[1:]...)
		cmd.Env = append(os.Environ(), "QUALITYMON_BACKUP_INFLUXDB="+influxDir)
		cmd.Stdout, cmd.Stderr = env.Stderr, env.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("InfluxDB's part (%s): %w", strings.Join(argv, " "), err)
		}
		return nil
	}, nil
}

// argv is the InfluxDB command: the one given, or influxd's portable
// backup or restore of the config's database into dir.
func (c *influxCmd) argv(verb string, cfg *config.Config, dir string) ([]string, error) {
	if len(c.Command) > 0 {
		if c.Command[0] == "--" {
			return c.Command[1:], nil
		}
		return c.Command, nil
	}
	host := c.InfluxdHost
	if host == "" {
		u, err := url.Parse(cfg.Influx.URL)
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("influx.url %q: no host to derive --influxd-host from", store.RedactURL(cfg.Influx.URL))
		}
		host = net.JoinHostPort(u.Hostname(), "8088")
	}
	db, _, _ := strings.Cut(cfg.Influx.Bucket, "/")
	return []string{c.Influxd, verb, "-portable", "-db", db, "-host", host, dir}, nil
}

type backupCmd struct {
	Dir string `arg:"" help:"Directory to write the backup to (created; must be empty)." type:"path"`
	influxCmd
}

// Run copies the spool while serve holds its flusher (or, when serve is not
// running, under the spool's lock), then runs InfluxDB's backup before
// letting the flusher go on: every acknowledged row is in the InfluxDB
// backup or in the spool copy, and none in both (spool.Backup).
func (c *backupCmd) Run(g *globals, env *Env) error {
	cfg, err := g.loadConfig(env)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.Dir, 0o750); err != nil {
		return err
	}
	if ents, err := os.ReadDir(c.Dir); err != nil || len(ents) > 0 {
		return errors.Join(err, fmt.Errorf("backup directory %s is not empty", c.Dir))
	}
	argv, influx, err := c.part("backup", cfg, env, c.Dir)
	if err != nil {
		return err
	}
	rec := backupRecord{Created: env.Now().UTC(), Bucket: cfg.Influx.Bucket, Command: argv}
	rec.Spool, err = spool.Backup(env.Ctx, cfg.SpoolDir, filepath.Join(c.Dir, backupSpool), influx)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	rec.Finished = env.Now().UTC()
	b, _ := json.MarshalIndent(rec, "", "  ")
	if err := durable.WriteFile(filepath.Join(c.Dir, backupManifest), append(b, '\n'), 0o640); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "backup complete in %s: InfluxDB (%s) and the spool (%d segments, commit at segment %d offset %d, flusher %s)\n",
		c.Dir, backupInflux, len(rec.Spool.Segments), rec.Spool.Commit.Segment, rec.Spool.Commit.Offset, map[bool]string{true: "held while serve ran", false: "not running"}[rec.Spool.Online])
	return nil
}

type restoreCmd struct {
	Dir string `arg:"" help:"A directory written by qualitymon backup." type:"path"`
	influxCmd
}

// Run restores InfluxDB's backup (into an InfluxDB without the database),
// then puts the spool copy in place as spool_dir (which must be empty;
// serve must not run). serve then replays what InfluxDB's backup lacks.
func (c *restoreCmd) Run(g *globals, env *Env) error {
	cfg, err := g.loadConfig(env)
	if err != nil {
		return err
	}
	var rec backupRecord
	b, err := os.ReadFile(filepath.Join(c.Dir, backupManifest))
	if err != nil {
		return fmt.Errorf("%s is not a complete backup: %w", c.Dir, err)
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(c.Dir, backupManifest), err)
	}
	_, influx, err := c.part("restore", cfg, env, c.Dir)
	if err != nil {
		return err
	}
	// serve's snapshot of the figures it last read holds what InfluxDB held
	// then, not what the backup holds, and a restore marks no write: the
	// next start must read everything.
	if err := os.Remove(snapshotPath(cfg)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore: removing serve's snapshot of the figures: %w", err)
	}
	if err := spool.Restore(filepath.Join(c.Dir, backupSpool), cfg.SpoolDir, influx); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(env.Stdout, "restored the backup of %s: InfluxDB, and the spool in %s; start serve to replay what InfluxDB's backup lacks\n",
		rec.Created.Format(time.RFC3339), cfg.SpoolDir)
	return nil
}
