package config

import (
	"log/slog"

	"github.com/robfig/cron/v3"
)

// CronLogger adapts slog to cron.Logger, for every cron scheduler of
// qualitymon (evaluation, collectors): cron's routine messages go to debug,
// its errors (recovered panics) to error.
func CronLogger(l *slog.Logger) cron.Logger { return cronLogger{l} }

type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}
