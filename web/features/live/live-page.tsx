export default function Page() {
  return <h1>TODO live/live-page</h1>;
}
