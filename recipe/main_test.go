package recipe

import (
	"testing"

	"github.com/zkloop/zkloop/internal/recipetest"
)

func TestMain(m *testing.M) { recipetest.Main(m) }
