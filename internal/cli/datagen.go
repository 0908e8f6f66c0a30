package cli

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/tide-stream/tide/internal/datagen"
)

func (a *App) datagenCmd() *cobra.Command {
	var c datagen.Config
	var brokers, payload string
	var keys int
	cmd := &cobra.Command{
		Use:   "datagen --bootstrap-servers B --topic T --shape constant|cosine|steps|bursts [flags]",
		Short: "Produce records to Kafka at the rate of a load shape",
		Long: "Produces records to a Kafka topic (created with --partitions when it does not exist) at the rate of a shape:\n" +
			"  constant  --rate R records/s\n" +
			"  cosine    between --min and --max records/s with --period (default the seed's 2π/0.04 min ≈ 157 min), " +
			"starting at the seed's phase −3 (just after the trough)\n" +
			"  steps     --min to --max in 4 equal steps per --period, then back to --min\n" +
			"  bursts    the seed's generator: N records flat out, then a 15 s pause; N = 50,000 + 50,000·cos(x), " +
			"x from −3 rising 0.04 per minute\n" +
			"--speedup F compresses time F times (periods; the bursts' minute, pause and N), keeping the rates.\n" +
			"Payloads: counter (key = value = a running counter from 0, as the seed's generator) or verify " +
			"(value i, key i mod --keys: the Verify job's input). A progress line goes to standard error every second, " +
			"the final count at the end. It stops at --count records, after --duration, or on Ctrl-C/SIGTERM. " +
			"Documented in " + jobsDoc + ".",
		Example: "  tide datagen --bootstrap-servers 127.0.0.1:9092 --topic topic --shape bursts --speedup 10\n" +
			"  tide datagen --bootstrap-servers 127.0.0.1:9092 --topic numbers --partitions 4 --shape constant --rate 5000 " +
			"--count 100000 --payload verify --keys 16",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, b := range strings.Split(brokers, ",") {
				if b = strings.TrimSpace(b); b != "" {
					c.Brokers = append(c.Brokers, b)
				}
			}
			if cmd.Flags().Changed("rate") && (cmd.Flags().Changed("min") || cmd.Flags().Changed("max")) {
				return fmt.Errorf("datagen: --rate and --min/--max exclude each other")
			}
			p, err := datagen.NewPayload(payload, keys)
			if err != nil {
				return err
			}
			c.Payload = p
			c.Progress = cmd.ErrOrStderr()
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := datagen.Run(ctx, c)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d\n", res.Acked)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&brokers, "bootstrap-servers", "", "Kafka bootstrap servers, host:port[,host:port…] (required)")
	f.StringVar(&c.Topic, "topic", "", "the topic to produce to (required)")
	f.IntVar(&c.Partitions, "partitions", 1, "partitions of the topic if it has to be created")
	f.StringVar(&c.Shape.Name, "shape", "", "load shape: constant, cosine, steps or bursts (required)")
	f.Float64Var(&c.Shape.Rate, "rate", 0, "records per second of the constant shape")
	f.Float64Var(&c.Shape.Min, "min", 0, "lowest rate of the cosine and steps shapes, records/s")
	f.Float64Var(&c.Shape.Max, "max", 0, "highest rate of the cosine and steps shapes, records/s")
	f.DurationVar(&c.Shape.Period, "period", 0, "period of the cosine and steps shapes before --speedup (0: the seed's ≈157m)")
	f.Float64Var(&c.Shape.Speedup, "speedup", 1, "compress time this many times")
	f.Int64Var(&c.Count, "count", 0, "stop after this many records (0: no limit)")
	f.DurationVar(&c.Duration, "duration", 0, "stop after this long (0: no limit)")
	f.StringVar(&payload, "payload", "counter", "record payload: counter or verify")
	f.IntVar(&keys, "keys", 16, "number of keys K of --payload verify (key = i mod K)")
	f.IntVar(&c.Window, "window", 10_000, "records in flight (produced, not yet acknowledged) at most")
	return cmd
}

// kafkaCmd is `tide kafka`, whose one subcommand runs an in-memory broker.
func (a *App) kafkaCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kafka",
		Short: "An in-memory Kafka-protocol broker for trying things on one machine",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.kafkaStartForegroundCmd())
	return cmd
}
