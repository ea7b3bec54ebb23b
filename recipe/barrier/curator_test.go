package barrier_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/zkloop/zkloop/internal/recipetest"
	"github.com/zkloop/zkloop/recipe/barrier"
)

// TestCurator meets Curator 5.4's DistributedBarrier and
// DistributedDoubleBarrier at the same barriers.
func TestCurator(t *testing.T) {
	cur, pl := recipetest.StartCurator(t, "j1", "j2")

	t.Run("DoubleBarrier", func(t *testing.T) {
		const goMembers, javaMembers = 2, 2
		ctx := recipetest.Context(t)
		var members []*barrier.DoubleBarrier
		for range goMembers {
			members = append(members, barrier.NewDoubleBarrier(pl.Connect(), double, goMembers+javaMembers))
		}
		for i := range javaMembers {
			name := fmt.Sprintf("db%d", i)
			if err := cur.DoJSON(ctx, nil, "doublebarrier.new", name, fmt.Sprintf("j%d", i+1), double, fmt.Sprint(goMembers+javaMembers)); err != nil {
				t.Fatal(err)
			}
		}
		observer := pl.Connect()
		for _, step := range []struct{ java, what string }{{"doublebarrier.enter", "entered"}, {"doublebarrier.leave", "left"}} {
			recipetest.Concurrently(t, goMembers+javaMembers, func(ctx context.Context, i int) error {
				if i < goMembers {
					if step.java == "doublebarrier.enter" {
						return members[i].Enter(ctx)
					}
					return members[i].Leave(ctx)
				}
				result := map[string]bool{}
				if err := cur.DoJSON(ctx, &result, step.java, fmt.Sprintf("db%d", i-goMembers)); err != nil {
					return err
				}
				if !result[step.what] {
					return fmt.Errorf("Curator's member %d not %s: %v", i-goMembers, step.what, result)
				}
				return nil
			})
			if step.what == "entered" {
				if got := recipetest.Children(t, observer, double); len(got) != goMembers+javaMembers+1 {
					t.Errorf("children once entered: %q, want the 4 members and ready", got)
				}
			}
		}
		if got := recipetest.Children(t, observer, double); len(got) != 0 {
			t.Errorf("children after leaving: %q", got)
		}
	})

	t.Run("Barrier", func(t *testing.T) {
		ctx := recipetest.Context(t)
		if err := cur.DoJSON(ctx, nil, "barrier.new", "b", "j1", single); err != nil {
			t.Fatal(err)
		}
		b := barrier.NewBarrier(pl.Connect(), single)
		// Java's barrier held up Go's waiter, then Go's barrier held up
		// Java's.
		if err := cur.DoJSON(ctx, nil, "barrier.set", "b"); err != nil {
			t.Fatal(err)
		}
		waited := background(func() error { return b.Wait(ctx) })
		stillWaiting(t, waited, "Go's Wait on Java's barrier")
		if err := cur.DoJSON(ctx, nil, "barrier.remove", "b"); err != nil {
			t.Fatal(err)
		}
		if err := recipetest.Receive(t, waited, "Go's release"); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(ctx); err != nil {
			t.Fatal(err)
		}
		var held struct {
			Released bool `json:"released"`
		}
		if err := cur.DoJSON(ctx, &held, "barrier.wait", "b", "100"); err != nil || held.Released {
			t.Fatalf("Curator's wait on Go's barrier: %+v, %v; want held", held, err)
		}
		javaWaited := background(func() error {
			var released struct {
				Released bool `json:"released"`
			}
			if err := cur.DoJSON(ctx, &released, "barrier.wait", "b"); err != nil {
				return err
			}
			if !released.Released {
				return fmt.Errorf("Curator's wait ended unreleased")
			}
			return nil
		})
		if err := b.Remove(ctx); err != nil {
			t.Fatal(err)
		}
		if err := recipetest.Receive(t, javaWaited, "Java's release"); err != nil {
			t.Error(err)
		}
	})
}
