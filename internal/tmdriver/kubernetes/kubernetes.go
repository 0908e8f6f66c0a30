// Package kubernetes is the autoscaler's Kubernetes driver: it sets the
// replicas of the TaskManager Deployment through its scale subresource,
// as `kubectl scale` and a HorizontalPodAutoscaler do, so that the
// Deployment's own rollout starts pods and a pod's termination (SIGTERM,
// then the grace period) decommissions its TaskManager gracefully. It is
// a package of its own so that only the command that uses it compiles
// client-go.
package kubernetes

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/retry"
)

// Driver scales one Deployment.
type Driver struct {
	client     kubernetes.Interface
	namespace  string
	deployment string
}

// New returns a driver of namespace/deployment through client.
func New(client kubernetes.Interface, namespace, deployment string) (*Driver, error) {
	if namespace == "" || deployment == "" {
		return nil, errors.New("kubernetes driver: a namespace and a deployment are required")
	}
	return &Driver{client: client, namespace: namespace, deployment: deployment}, nil
}

// Config returns the in-cluster configuration when running in a pod, else
// the one of kubeconfig (or $KUBECONFIG, ~/.kube/config).
func Config(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		if c, err := rest.InClusterConfig(); err == nil {
			return c, nil
		}
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	if kubeconfig != "" {
		rules.ExplicitPath = kubeconfig
	}
	c, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("kubernetes driver: no in-cluster configuration and no kubeconfig: %w", err)
	}
	return c, nil
}

// Count is the Deployment's desired replicas and how many are ready.
func (d *Driver) Count(ctx context.Context) (desired, ready int, err error) {
	dep, err := d.client.AppsV1().Deployments(d.namespace).Get(ctx, d.deployment, metav1.GetOptions{})
	if err != nil {
		return 0, 0, d.wrap("get", err)
	}
	desired = 1
	if dep.Spec.Replicas != nil {
		desired = int(*dep.Spec.Replicas)
	}
	return desired, int(dep.Status.ReadyReplicas), nil
}

// Scale sets the Deployment's replicas to n through the scale subresource,
// retrying on a conflicting update.
func (d *Driver) Scale(ctx context.Context, n int) error {
	if n < 0 {
		return fmt.Errorf("kubernetes driver: scale to %d", n)
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s, err := d.client.AppsV1().Deployments(d.namespace).GetScale(ctx, d.deployment, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if int(s.Spec.Replicas) == n {
			return nil
		}
		s.Spec.Replicas = int32(n)
		_, err = d.client.AppsV1().Deployments(d.namespace).UpdateScale(ctx, d.deployment, s, metav1.UpdateOptions{})
		return err
	})
	return d.wrap(fmt.Sprintf("scale to %d", n), err)
}

// wrap names the Deployment and what the API refused; a refusal
// (forbidden, not found) is not worth retrying as is.
func (d *Driver) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	msg := fmt.Sprintf("kubernetes driver: %s deployment %s/%s", what, d.namespace, d.deployment)
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: forbidden (the service account needs get/update on deployments/scale): %w", msg, err)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s: not found: %w", msg, err)
	}
	return fmt.Errorf("%s: %w", msg, err)
}
