package engine

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/qualitymon/qualitymon/internal/evaluate"
)

// fill sets every field under v to a value that is not zero: pointers to
// new values, slices to one element.
func fill(v reflect.Value) {
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)))
			return
		}
		for i := range v.NumField() {
			fill(v.Field(i))
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(v.Elem())
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 1, 1))
		fill(v.Index(0))
	case reflect.String:
		v.SetString("s")
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int:
		v.SetInt(1)
	case reflect.Float64:
		v.SetFloat(1)
	default:
		panic("fill: add " + v.Kind().String())
	}
}

// leaves calls change with the path of every way to change one field
// under v (a leaf's value, a pointer's nil-ness, a slice's length), and a
// function making that change.
func leaves(v reflect.Value, path string, change func(path string, do func(reflect.Value))) {
	t := v.Type()
	switch {
	case t == reflect.TypeFor[time.Time]():
		change(path, func(x reflect.Value) { x.Set(reflect.ValueOf(x.Interface().(time.Time).Add(time.Hour))) })
	case t.Kind() == reflect.Struct:
		for i := range t.NumField() {
			leaves(v.Field(i), path+"."+t.Field(i).Name, func(p string, do func(reflect.Value)) {
				change(p, func(x reflect.Value) { do(x.Field(i)) })
			})
		}
	case t.Kind() == reflect.Pointer:
		change(path+"=nil", func(x reflect.Value) { x.Set(reflect.Zero(t)) })
		leaves(v.Elem(), path+"*", func(p string, do func(reflect.Value)) {
			change(p, func(x reflect.Value) { do(x.Elem()) })
		})
	case t.Kind() == reflect.Slice:
		change(path+"=nil", func(x reflect.Value) { x.Set(reflect.Zero(t)) })
		change(path+"+1", func(x reflect.Value) { x.Set(reflect.Append(x, x.Index(0))) })
		leaves(v.Index(0), path+"[0]", func(p string, do func(reflect.Value)) {
			change(p, func(x reflect.Value) { do(x.Index(0)) })
		})
	case t.Kind() == reflect.String:
		change(path, func(x reflect.Value) { x.SetString(x.String() + "x") })
	case t.Kind() == reflect.Bool:
		change(path, func(x reflect.Value) { x.SetBool(!x.Bool()) })
	case t.Kind() == reflect.Int:
		change(path, func(x reflect.Value) { x.SetInt(x.Int() + 1) })
	case t.Kind() == reflect.Float64:
		change(path, func(x reflect.Value) { x.SetFloat(x.Float() + 1) })
	default:
		panic("leaves: add " + t.Kind().String())
	}
}

// sameEvaluation tells every change of any field, at any depth, and
// equal evaluations made apart (other pointers) are the same: an upload's
// and a scheduled run's metrics are encoded again exactly where a target's
// evaluation changed.
func TestSameEvaluationEveryField(t *testing.T) {
	full := func() *evaluate.Evaluation {
		var e evaluate.Evaluation
		fill(reflect.ValueOf(&e).Elem())
		return &e
	}
	if !sameEvaluation(full(), full()) {
		t.Fatal("two equal evaluations differ")
	}
	n := 0
	leaves(reflect.ValueOf(full()).Elem(), "Evaluation", func(path string, do func(reflect.Value)) {
		n++
		b := full()
		do(reflect.ValueOf(b).Elem())
		if sameEvaluation(full(), b) || sameEvaluation(b, full()) {
			t.Errorf("a change of %s is not seen", path)
		}
	})
	if n < 40 {
		t.Fatalf("only %d changes tried", n)
	}
}

func TestChangedIndices(t *testing.T) {
	mk := func(statuses string) []evaluate.Evaluation {
		var out []evaluate.Evaluation
		for i, s := range strings.Split(statuses, "") {
			out = append(out, evaluate.Evaluation{Plan: "p", Target: string(rune('a' + i)), Region: "r", Status: evaluate.Status(s)})
		}
		return out
	}
	if got := changedIndices(mk("aaa"), mk("aba")); !reflect.DeepEqual(got, []int{1}) {
		t.Errorf("one changed: %v", got)
	}
	if got := changedIndices(mk("aaa"), mk("aaa")); got == nil || len(got) != 0 {
		t.Errorf("none changed: %v, want an empty list (nil is everything)", got)
	}
	if got := changedIndices(nil, mk("a")); got != nil {
		t.Errorf("first run: %v, want nil", got)
	}
	if got := changedIndices(mk("aa"), mk("aaa")); got != nil {
		t.Errorf("other targets: %v, want nil", got)
	}
}
