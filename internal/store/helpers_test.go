package store_test

import (
	"errors"

	"github.com/qualitymon/qualitymon/internal/store"
)

func asRetryable(err error, target **store.RetryableError) bool { return errors.As(err, target) }
