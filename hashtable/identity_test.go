package hashtable

import "testing"

type arrayOfWatchers [2]Watcher

type sliceWatcher []int

func TestHasIdentity(t *testing.T) {
	f := funcWatcher(func() {})
	tests := []struct {
		name string
		w    Watcher
		want bool
	}{
		{"nil", nil, false},
		{"pointer", &recorder{}, true},
		{"nil pointer", (*recorder)(nil), true},
		{"value", valueWatcher{"x"}, true},
		{"func", f, false},
		{"nil func", funcWatcher(nil), false},
		{"slice", sliceWatcher{1}, false},
		{"struct holding a func", funcHolder{inner: f}, false},
		{"struct holding a pointer", funcHolder{inner: &recorder{}}, true},
		{"struct holding nil", funcHolder{}, true},
		{"array holding a func", arrayOfWatchers{&recorder{}, f}, false},
		{"array of pointers", arrayOfWatchers{&recorder{}, &recorder{}}, true},
	}
	for _, tt := range tests {
		if got := hasIdentity(tt.w); got != tt.want {
			t.Errorf("hasIdentity(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestIdentityCompareNeverPanics compares watchers with an identity against
// every kind of watcher, the way indexOf and the collector do.
func TestIdentityCompareNeverPanics(t *testing.T) {
	f := funcWatcher(func() {})
	all := []Watcher{
		&recorder{}, valueWatcher{"x"}, f, sliceWatcher{1},
		funcHolder{inner: f}, funcHolder{inner: &recorder{}}, funcHolder{},
		arrayOfWatchers{&recorder{}, f}, arrayOfWatchers{},
	}
	var list []entry
	for _, w := range all {
		list = append(list, entry{w: w, identity: hasIdentity(w)})
	}
	for i, w := range all {
		if !hasIdentity(w) {
			continue
		}
		if got := indexOf(list, w); got != i {
			t.Errorf("indexOf(all[%d]) = %d", i, got)
		}
	}
}
