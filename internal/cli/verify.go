package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/tide-stream/tide/internal/verify"
)

// verifyKafkaTimeout bounds a check of a Kafka topic.
const verifyKafkaTimeout = 5 * time.Minute

func (a *App) verifyCmd() *cobra.Command {
	var dir, brokers, topic string
	var keys, count int
	cmd := &cobra.Command{
		Use:   "verify (--output DIR | --bootstrap-servers B --topic T) --keys K --count N",
		Short: "Check the committed output of the Verify job: every count exactly once, sums right",
		Long: "Checks the committed output of the Verify job: lines key,count,sum under DIR (hidden files and " +
			"directories such as .inprogress are skipped), or, with --bootstrap-servers and --topic, the values of the " +
			"records of topic T that a read_committed consumer sees, read up to each partition's last stable offset " +
			"(records of open or aborted transactions are not output). For every key 0..K-1 the counts must appear exactly once " +
			"with the right sums: 1..n_k for a bounded run (--count N), 1..the largest count present for an " +
			"unbounded one (--count 0), where every key must still be present. An empty output fails, and so does " +
			"a missing directory or topic. Exits 0 if the output is exactly right, else prints the problems and exits 1.",
		Example: "  tide verify --output verify-output --keys 16 --count 100000\n" +
			"  tide verify --bootstrap-servers localhost:9092 --topic verify-out --keys 16 --count 0",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var rep *verify.Report
			var err error
			switch {
			case dir != "" && (brokers != "" || topic != ""):
				return errors.New("--output DIR and --bootstrap-servers/--topic exclude each other")
			case brokers != "" || topic != "":
				if brokers == "" || topic == "" {
					return errors.New("checking Kafka output needs both --bootstrap-servers and --topic")
				}
				rep, err = verifyKafka(cmd.Context(), brokers, topic, keys, count)
			case dir == "":
				return errors.New("--output DIR is required (or --bootstrap-servers B --topic T)")
			default:
				rep, err = verify.Check(dir, keys, count)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), rep.String())
			if !rep.OK() {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "output", "", "the Verify job's output directory")
	cmd.Flags().StringVar(&brokers, "bootstrap-servers", "", "Kafka brokers, host:port[,host:port…], to check the topic --topic")
	cmd.Flags().StringVar(&topic, "topic", "", "the Verify job's --output-topic")
	cmd.Flags().IntVar(&keys, "keys", 16, "number of keys K the job ran with")
	cmd.Flags().IntVar(&count, "count", 0, "number of records N (0: the job is unbounded; check what is there: every key present, "+
		"each key's counts 1..its largest exactly once)")
	return cmd
}

// verifyKafka checks the committed records of topic.
func verifyKafka(ctx context.Context, brokers, topic string, keys, count int) (*verify.Report, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, verifyKafkaTimeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(strings.Split(brokers, ",")...))
	if err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	defer cl.Close()
	return verify.CheckKafka(ctx, cl, topic, keys, count)
}
