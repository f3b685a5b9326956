package spool

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/qualitymon/qualitymon/internal/durable"
)

// BackupSocket is the name of the Unix socket in the spool directory through
// which a running spool (Options.BackupSocket) holds its flusher for Backup.
const BackupSocket = "backup.sock"

// maxHold bounds one hold: a backup that has not finished by then is let go
// (its InfluxDB backup may then hold more than the spool copy's commit: rows
// replayed twice, as after a crash).
const maxHold = time.Hour

// holdTimeout bounds the wait for the flusher to reach a group boundary
// (it does not while InfluxDB refuses writes: the InfluxDB backup would
// fail then anyway).
const holdTimeout = 2 * time.Minute

// Manifest is what Backup copied of a spool.
type Manifest struct {
	// Online is true when serve held its flusher for the copy, false when
	// the spool was not in use and Backup locked it.
	Online bool `json:"online"`
	// Commit is the copy's commit: every record before it was in InfluxDB
	// when its backup started; every one from it on is in the copy.
	Commit   Position `json:"commit"`
	Segments []Copied `json:"segments"`
}

// Position is a place in a spool: a segment and an offset in it.
type Position struct {
	Segment uint64 `json:"segment"`
	Offset  int64  `json:"offset"`
}

// Copied is a segment and the bytes of it copied (the fsynced records).
type Copied struct {
	Segment uint64 `json:"segment"`
	Bytes   int64  `json:"bytes"`
}

// hold stops the flusher at its next group boundary and returns when it
// stands there, with the release that lets it go on (idempotent).
func (s *Spool) hold(ctx context.Context) (release func(), err error) {
	s.mu.Lock()
	s.holds++
	s.mu.Unlock()
	s.kick()
	var once sync.Once
	release = func() {
		once.Do(func() {
			s.mu.Lock()
			s.holds--
			s.notify()
			s.mu.Unlock()
			s.kick()
		})
	}
	for {
		s.mu.Lock()
		parked, closed, ch := s.parked, s.closed, s.changed
		s.mu.Unlock()
		if parked {
			return release, nil
		}
		if closed {
			release()
			return nil, errors.New("spool closed")
		}
		select {
		case <-ch:
		case <-ctx.Done():
			release()
			return nil, fmt.Errorf("the spool's flusher did not reach a point to hold at (is InfluxDB refusing writes?): %w", ctx.Err())
		}
	}
}

// waitUnheld parks the flusher while a backup holds it; false when ctx
// ends first.
func (s *Spool) waitUnheld(ctx context.Context) bool {
	s.mu.Lock()
	for s.holds > 0 {
		if !s.parked {
			s.parked = true
			s.notify()
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return false
		}
		s.mu.Lock()
	}
	if s.parked {
		s.parked = false
		s.notify()
	}
	s.mu.Unlock()
	return true
}

// heldManifest is the state to copy while the flusher is held.
func (s *Spool) heldManifest() Manifest {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := Manifest{Online: true, Commit: Position{s.commit.Seg, s.commit.Off}}
	for _, sg := range s.segs {
		m.Segments = append(m.Segments, Copied{Segment: sg.num, Bytes: sg.size})
	}
	return m
}

// listenBackup serves holds on dir/BackupSocket until the spool closes.
func (s *Spool) listenBackup() error {
	path := filepath.Join(s.dir, BackupSocket)
	os.Remove(path) // left by a process that died; the spool's lock is ours
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("backup socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return fmt.Errorf("backup socket: %w", err)
	}
	s.backupLn = ln
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serveHold(c)
		}
	}()
	return nil
}

// serveHold holds the flusher for one connection: it answers the manifest
// (or {"error": …}) as one JSON line, then keeps the hold until the client
// closes the connection, the spool closes, or maxHold passes.
func (s *Spool) serveHold(c net.Conn) {
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), holdTimeout)
	release, err := s.hold(ctx)
	cancel()
	enc := json.NewEncoder(c)
	if err != nil {
		enc.Encode(map[string]string{"error": err.Error()})
		return
	}
	defer release()
	// Registered before the manifest goes out, so that Close, whenever it
	// comes, closes the connection and ends the hold.
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.holdConns[c] = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.holdConns, c)
		s.mu.Unlock()
	}()
	m := s.heldManifest()
	s.log.Info("spool flusher held for a backup", "dir", s.dir, "commit_segment", m.Commit.Segment, "commit_offset", m.Commit.Offset)
	if err := enc.Encode(m); err != nil {
		return
	}
	c.SetReadDeadline(time.Now().Add(maxHold))
	io.Copy(io.Discard, c) // until the client closes (or the deadline)
	s.log.Info("spool flusher released after a backup", "dir", s.dir)
}

// Backup copies the spool in dir to dst (a new or empty directory), then
// runs during — the InfluxDB backup — while the copy's commit still
// separates what InfluxDB holds from what the copy must replay: while
// serve runs, its flusher is held (through BackupSocket) from before the
// copy until during returns; otherwise the spool's lock is held, so that
// serve cannot start meanwhile. The copy is fsynced before during runs.
func Backup(ctx context.Context, dir, dst string, during func() error) (Manifest, error) {
	var m Manifest
	if err := emptyDir(dst); err != nil {
		return m, err
	}
	release, m, err := holdOrLock(ctx, dir)
	if err != nil {
		return m, err
	}
	defer release()
	if err := copySpool(dir, dst, m); err != nil {
		return m, err
	}
	if err := during(); err != nil {
		return m, err
	}
	return m, nil
}

// holdOrLock holds the flusher of the serve that owns dir or, when none
// does, takes dir's lock; it returns what to copy.
func holdOrLock(ctx context.Context, dir string) (func(), Manifest, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, Manifest{}, fmt.Errorf("spool: %w", err)
	}
	lock, lerr := lockDir(filepath.Join(dir, lockName))
	if lerr == nil {
		m, err := restingManifest(dir)
		if err != nil {
			unlockDir(lock)
			return nil, m, err
		}
		return func() { unlockDir(lock) }, m, nil
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", filepath.Join(dir, BackupSocket))
	if err != nil {
		return nil, Manifest{}, fmt.Errorf("spool %s is in use (%v) but its backup socket does not answer: %w", dir, lerr, err)
	}
	line, err := bufio.NewReader(c).ReadBytes('\n')
	if err != nil {
		c.Close()
		return nil, Manifest{}, fmt.Errorf("spool %s: asking serve to hold its flusher: %w", dir, err)
	}
	var ans struct {
		Manifest
		Error string `json:"error"`
	}
	if err := json.Unmarshal(line, &ans); err != nil {
		c.Close()
		return nil, Manifest{}, fmt.Errorf("spool %s: serve's answer %q: %w", dir, line, err)
	}
	if ans.Error != "" {
		c.Close()
		return nil, Manifest{}, fmt.Errorf("spool %s: serve cannot hold its flusher: %s", dir, ans.Error)
	}
	return func() { c.Close() }, ans.Manifest, nil
}

// restingManifest lists a spool that no process holds: its commit and
// every segment whole (a torn tail is dealt with when the copy is opened).
func restingManifest(dir string) (Manifest, error) {
	c, err := readCommit(dir)
	if err != nil {
		return Manifest{}, err
	}
	nums, err := listSegments(dir)
	if err != nil {
		return Manifest{}, err
	}
	m := Manifest{Commit: Position{c.Seg, c.Off}}
	for _, n := range nums {
		fi, err := os.Stat(filepath.Join(dir, segName(n)))
		if err != nil {
			return m, err
		}
		m.Segments = append(m.Segments, Copied{Segment: n, Bytes: fi.Size()})
	}
	return m, nil
}

// copySpool copies what m lists of the spool in dir, with its commit file,
// quarantine/ and failed/, to dst, durably.
func copySpool(dir, dst string, m Manifest) error {
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return err
	}
	if err := copyFile(filepath.Join(dir, commitName), filepath.Join(dst, commitName), -1); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	for _, sg := range m.Segments {
		if err := copyFile(filepath.Join(dir, segName(sg.Segment)), filepath.Join(dst, segName(sg.Segment)), sg.Bytes); err != nil {
			return err
		}
	}
	for _, sub := range []string{quarantineDir, failedDir} {
		if err := copyTree(filepath.Join(dir, sub), filepath.Join(dst, sub)); err != nil {
			return err
		}
	}
	return durable.SyncDir(dst)
}

// copyFile copies the first n bytes of src (all of it when n < 0) to a new
// file dst and fsyncs it.
func copyFile(src, dst string, n int64) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	var r io.Reader = in
	if n >= 0 {
		r = io.LimitReader(in, n)
	}
	got, err := io.Copy(out, r)
	if err == nil && n >= 0 && got != n {
		err = fmt.Errorf("%s holds %d bytes, %d expected", src, got, n)
	}
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("copying %s: %w", src, err)
	}
	return nil
}

// copyTree copies the files of directory src (if it exists) to dst.
func copyTree(src, dst string) error {
	ents, err := os.ReadDir(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dst, e.Name()), -1); err != nil {
				return err
			}
		}
	}
	return durable.SyncDir(dst)
}

// emptyDir checks that dir is missing or empty.
func emptyDir(dir string) error {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(ents) > 0 {
		return fmt.Errorf("%s is not empty", dir)
	}
	return nil
}

// Restore puts the spool copy src (made by Backup) in place as the spool
// dir, which must hold no segment and no commit yet: it takes dir's lock
// (so serve must not run), runs before — the InfluxDB restore — and then
// copies src. When serve next opens dir, it replays every record after the
// copy's commit: exactly what the InfluxDB backup lacks.
func Restore(src, dir string, before func() error) error {
	if _, err := listSegments(src); err != nil {
		return fmt.Errorf("the spool copy: %w", err)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(filepath.Join(dir, lockName))
	if err != nil {
		return fmt.Errorf("spool %s: %w (stop serve before a restore)", dir, err)
	}
	defer unlockDir(lock)
	nums, err := listSegments(dir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(dir, commitName)); len(nums) > 0 || err == nil {
		return fmt.Errorf("spool %s already holds a spool (%d segments): restore into an empty spool_dir", dir, len(nums))
	}
	if err := before(); err != nil {
		return err
	}
	m, err := restingManifest(src)
	if err != nil {
		return fmt.Errorf("reading the spool copy %s: %w", src, err)
	}
	return copySpool(src, dir, m)
}
