//! The CLI's `emit`: generated or given bookings through the command handler.

use super::*;

pub(super) async fn emit(cli: &Cli, args: &EmitArgs) -> CliResult<i32> {
    let json = args.out.json;
    let single = args.email.is_some() || args.id.is_some();
    if single && args.count.is_some() {
        return Err(CliError::input(
            "--count cannot be combined with --id or the booking fields",
        ));
    }
    if single {
        let mut rng = crate::domain::generate::DemoRng::new(Uuid::new_v4().as_u64_pair().0);
        let generated = crate::domain::generate::booking_form(&mut rng, 1000);
        let form = BookingWizardForm {
            email: args.email.clone().unwrap_or(generated.email),
            name: args.name.clone().unwrap_or(generated.name),
            address: args.address.clone().unwrap_or(generated.address),
            service: args.service.clone().unwrap_or(generated.service),
            check_in: args.check_in.clone().unwrap_or(generated.check_in),
            check_out: args.check_out.clone().unwrap_or(generated.check_out),
            guests: args.guests.clone().unwrap_or(generated.guests),
            price: args.price.clone().unwrap_or(generated.price),
        };
        let id = command_id(&args.id)?;
        if id.get_version_num() != 4 {
            return Err(CliError::input(format!("--id {id} is not a UUID v4")));
        }
        // The form is checked before any store is opened.
        let cmd = form.validate(id).map_err(EngineError::Invalid)?;
        let engine = open_engine(cli).await?;
        let outcome = engine.submit_booking_wizard(cmd).await?;
        return finish_single(&engine, &outcome, json).await;
    }
    let engine = open_engine(cli).await?;
    let spec = BulkSpec {
        mix: args.mix,
        rate_per_sec: args.rate,
        ..BulkSpec::bookings(args.count.unwrap_or(1), args.seed)
    };
    let shutdown = CancellationToken::new();
    let tasks = if args.no_project {
        Vec::new()
    } else {
        engine.spawn_projectors(shutdown.clone())
    };
    let job = progress_printer();
    let ctrl_c = spawn_stop_signal(job.clone());
    let started = Instant::now();
    let result = engine.emit_bulk(&spec, &job).await;
    let elapsed = started.elapsed();
    ctrl_c.abort();
    shutdown.cancel();
    // The projectors stop at their next step; one held up by a busy read
    // store is not waited for (the final catch-up below is bounded too).
    for task in tasks {
        if tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .is_err()
        {
            break;
        }
    }
    let report = result?;
    let projection = if args.no_project {
        Value::Null
    } else {
        project_after_commands(&engine).await
    };
    let snapshots = match engine.take_due_snapshots().await {
        Ok(taken) => taken.len(),
        Err(e) => {
            eprintln!("warning: automatic snapshots were not taken: {e}");
            0
        }
    };
    if json {
        print_json(&json!({
            "emitted": report.emitted,
            "duplicates": report.duplicates,
            "rejected": report.rejected,
            "head": report.head,
            "elapsed_ms": elapsed.as_millis() as u64,
            "commands_per_sec": report.done as f64 / elapsed.as_secs_f64().max(1e-9),
            "cancelled": job.is_cancelled(),
            "snapshots_taken": snapshots,
            "projection": projection,
        }));
    } else {
        eprintln!(
            "{} emitted, {} duplicate(s), {} rejected in {:.1}s; head is {}",
            report.emitted,
            report.duplicates,
            report.rejected,
            elapsed.as_secs_f64(),
            report.head
        );
    }
    Ok(EXIT_OK)
}
