package koogallery_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

func TestResultErrorIsOneTypeAcrossFamilies(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("lookup: %w", license.ErrLicenseNotFound)
	assert.ErrorIs(t, err, saas.ErrInstanceNotFound, "both answer 000003")
	assert.NotErrorIs(t, err, saas.ErrInvalidParameter)
	assert.ErrorIs(t, order.NewResultError("000002", "x"), license.ErrInvalidParameter)

	var re *koogallery.ResultError
	assert.True(t, errors.As(fmt.Errorf("w: %w", saas.NewResultError(saas.CodeSoldOut, "sold out")), &re))
	code, msg := re.Result()
	assert.Equal(t, "000106", code)
	assert.Equal(t, "sold out", msg)
	assert.Equal(t, "koogallery: result 000106: sold out", re.Error())
	assert.False(t, re.Is(errors.New("000106")))
}
