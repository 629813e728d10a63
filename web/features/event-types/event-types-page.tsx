export default function Page() {
  return <h1>TODO event-types/event-types-page</h1>;
}
