package kubernetes

import (
	"context"
	"errors"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// fakeCluster is client-go's fake clientset holding a TaskManager
// Deployment, with the scale subresource served from the Deployment's
// replicas, as the API server does; conflicts injects that many conflicts
// into the next scale updates.
func fakeCluster(t *testing.T, replicas int32, conflicts int) (*fake.Clientset, *int) {
	dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "tide-taskmanager", Namespace: "tide"},
		Spec: appsv1.DeploymentSpec{Replicas: &replicas}}
	cs := fake.NewClientset(dep)
	gvr := schema.GroupVersionResource{Group: "apps", Version: "v1", Resource: "deployments"}
	updates := 0
	cs.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		obj, err := cs.Tracker().Get(gvr, "tide", a.(k8stesting.GetAction).GetName())
		if err != nil {
			return true, nil, err
		}
		d := obj.(*appsv1.Deployment)
		return true, &autoscalingv1.Scale{ObjectMeta: d.ObjectMeta, Spec: autoscalingv1.ScaleSpec{Replicas: *d.Spec.Replicas}}, nil
	})
	cs.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		updates++
		if conflicts > 0 {
			conflicts--
			return true, nil, apierrors.NewConflict(gvr.GroupResource(), "tide-taskmanager", errors.New("the object has been modified"))
		}
		s := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		obj, err := cs.Tracker().Get(gvr, "tide", s.Name)
		if err != nil {
			return true, nil, err
		}
		d := obj.(*appsv1.Deployment).DeepCopy()
		d.Spec.Replicas = &s.Spec.Replicas
		return true, s, cs.Tracker().Update(gvr, d, "tide")
	})
	return cs, &updates
}

// TestScale sets the replicas through the scale subresource, rides out
// conflicting updates, and makes no update when the count is already right.
func TestScale(t *testing.T) {
	cs, updates := fakeCluster(t, 1, 2)
	d, err := New(cs, "tide", "tide-taskmanager")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := d.Scale(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if desired, _, err := d.Count(ctx); err != nil || desired != 4 {
		t.Fatalf("Count = %d, %v after Scale(4)", desired, err)
	}
	if *updates != 3 {
		t.Errorf("%d scale updates, want 3 (two conflicts, then the update)", *updates)
	}
	if err := d.Scale(ctx, 4); err != nil || *updates != 3 {
		t.Errorf("Scale to the current count: %v, %d updates", err, *updates)
	}
	if err := d.Scale(ctx, -1); err == nil {
		t.Error("Scale(-1) accepted")
	}
}

// TestRefusals: a missing Deployment and a forbidden update give errors
// that say what to fix.
func TestRefusals(t *testing.T) {
	cs, _ := fakeCluster(t, 1, 0)
	missing, _ := New(cs, "tide", "nope")
	if err := missing.Scale(context.Background(), 2); err == nil || !strings.Contains(err.Error(), "tide/nope") {
		t.Errorf("scaling a missing deployment: %v", err)
	}
	cs.PrependReactor("update", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "apps", Resource: "deployments"}, "tide-taskmanager", errors.New("rbac"))
	})
	d, _ := New(cs, "tide", "tide-taskmanager")
	if err := d.Scale(context.Background(), 2); err == nil || !strings.Contains(err.Error(), "deployments/scale") {
		t.Errorf("a forbidden scale: %v, want it to name the permission", err)
	}
	if _, err := New(cs, "", "x"); err == nil {
		t.Error("an empty namespace is accepted")
	}
}
