package counter_test

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/counter"
)

// TestCurator counts together with Curator 5.4's SharedCount and
// DistributedAtomicLong on the same nodes: concurrent increments from
// both sides lose none, and each side reads the other's bytes.
func TestCurator(t *testing.T) {
	cur, pl := recipetest.StartCurator(t, "j")

	t.Run("SharedCount", func(t *testing.T) {
		const javaIncrements, goSessions, goIncrements = 100, 2, 50
		ctx := recipetest.Context(t)
		if err := cur.DoJSON(ctx, nil, "sharedcount.start", "js", "j", shared, "0"); err != nil {
			t.Fatal(err)
		}
		counts := make([]*counter.SharedCount, goSessions)
		for i := range counts {
			counts[i] = started(t, pl.Connect(), 0)
		}
		recipetest.Concurrently(t, goSessions+1, func(ctx context.Context, i int) error {
			if i == goSessions {
				var java struct {
					Retries int `json:"retries"`
				}
				err := cur.DoJSON(ctx, &java, "sharedcount.increment", "js", strconv.Itoa(javaIncrements))
				t.Logf("Curator's increments lost %d races", java.Retries)
				return err
			}
			for range goIncrements {
				if err := increment(ctx, counts[i], 1000); err != nil {
					return err
				}
			}
			return nil
		})
		const total = javaIncrements + goSessions*goIncrements
		var java struct {
			Count int32 `json:"count"`
		}
		if err := cur.DoJSON(ctx, &java, "sharedcount.get", "js"); err != nil || java.Count != total {
			t.Errorf("Curator's count %d, %v; want %d", java.Count, err, total)
		}
		reader := started(t, pl.Connect(), 0)
		if got := current(t, reader); got.Count != total {
			t.Errorf("Go's count %d, want %d", got.Count, total)
		}

		// Each side sees the other's writes, negative counts included.
		changes, stop := reader.Subscribe()
		defer stop()
		if err := cur.DoJSON(ctx, nil, "sharedcount.set", "js", "-2"); err != nil {
			t.Fatal(err)
		}
		waitCount(t, reader, changes, -2)
		cur.TakeEvents("js", "changed")
		if err := reader.SetCount(ctx, 1<<30); err != nil {
			t.Fatal(err)
		}
		for {
			e, err := cur.WaitEvent(ctx, "js", "changed")
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(e.Data, &java); err != nil {
				t.Fatal(err)
			}
			if java.Count == 1<<30 {
				break
			}
		}
	})

	t.Run("AtomicLong", func(t *testing.T) {
		const javaIncrements, goSessions, goIncrements = 50, 2, 25
		ctx := recipetest.Context(t)
		if err := cur.DoJSON(ctx, nil, "atomiclong.new", "ja", "j", along); err != nil {
			t.Fatal(err)
		}
		type atomicValue struct {
			Succeeded bool  `json:"succeeded"`
			Pre       int64 `json:"pre"`
			Post      int64 `json:"post"`
		}
		longs := make([]*counter.AtomicLong, goSessions)
		for i := range longs {
			longs[i] = counter.NewAtomicLong(pl.Connect(), along)
		}
		recipetest.Concurrently(t, goSessions+1, func(ctx context.Context, i int) error {
			if i < goSessions {
				for range goIncrements {
					if _, err := longs[i].Increment(ctx); err != nil {
						return err
					}
				}
				return nil
			}
			for range javaIncrements {
				var v atomicValue
				if err := cur.DoJSON(ctx, &v, "atomiclong.increment", "ja"); err != nil {
					return err
				}
				if !v.Succeeded {
					return errors.New("Curator's increment ran out of retries")
				}
			}
			return nil
		})
		const total = javaIncrements + goSessions*goIncrements
		var java atomicValue
		if err := cur.DoJSON(ctx, &java, "atomiclong.get", "ja"); err != nil || java.Post != total {
			t.Errorf("Curator's value %+v, %v; want %d", java, err, total)
		}
		if err := cur.DoJSON(ctx, &java, "atomiclong.add", "ja", strconv.FormatInt(0x0102030405, 10)); err != nil {
			t.Fatal(err)
		}
		got, err := longs[0].Get(ctx)
		if err != nil || got != total+0x0102030405 {
			t.Errorf("Go reads %d, %v after Curator's add; want %d", got, err, total+0x0102030405)
		}
		next, err := longs[1].Add(ctx, -1<<40)
		if err != nil {
			t.Fatal(err)
		}
		if err := cur.DoJSON(ctx, &java, "atomiclong.get", "ja"); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(atomicValue{true, next, next}, java); diff != "" {
			t.Errorf("Curator reads Go's add (-want +got):\n%s", diff)
		}
	})
}
